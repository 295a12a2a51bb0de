"""Ports: what the domain asks of storage, as `typing.Protocol`s with documented behaviour.

`base.EntityRepository` is what every repository offers (add, get, find, update, delete,
count); each context's module adds one port per aggregate with its own finders;
`unit_of_work.UnitOfWork` is the transaction that hands them out. Services and applications
depend on these types only.
"""
