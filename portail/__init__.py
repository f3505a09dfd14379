"""The operator's and staff's tooling around the Portail Famille function."""
