"""The staff back office's domain (`/gestion/` and the `portail` staff commands call the
same functions): staff accounts and roles, requests and certificates to decide, the
kitchen's headcount, paper plannings, families' files and the staff journal."""
