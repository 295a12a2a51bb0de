"""The domain: what an orchestrator's data is and the rules it obeys, with no I/O and no SQL.

Generic machinery sits at the top (`fields` for the field rules and types, `entity` for the
Entity base, `errors`, `events`, `clock`, `ids`); each bounded context is a package of its
own (`workspace`, `audit`, and later `agents`, `planning`, `backlog`, `workflows`) holding
its entities, enums, pure rules and events.
"""
