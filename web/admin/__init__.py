"""Admin support shared by the admin JSON API and the admin pages: filter
parsing, the dead-letter commands, and the pages' login session."""
