"""The in-memory fakes: dictionaries that enforce the schema's rules themselves, roll back
for real, and behave like the databases (the contract and property suites prove it). Open
them with `Database.open("memory://")`."""
