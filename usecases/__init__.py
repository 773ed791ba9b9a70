"""The application layer: one home for every use case.

Adapters (`web` views and sockets, `workers` actors, `cli` commands) call
these functions; they call `db` (models, units of work), `pipeline` (pure
rules) and reach the outside world only through the ports in
`usecases.ports` (a publisher, realtime, presence). One sub-package per
area: messaging, chat, presence, accounts, operations. `usecases.outbox`
is the one writer of outbox rows and the one marker of published jobs.
"""
