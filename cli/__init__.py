"""The `herald` command. `cli.embedded` is the embedded launcher: the one
module allowed to import both `web` and `workers` (it runs them in one
process)."""
