"""Admin support shared by the admin JSON API and the admin pages: filter
parsing, form reading, and the pages' login session (the dead-letter
commands are use cases: usecases.operations.dead_letter_commands)."""
