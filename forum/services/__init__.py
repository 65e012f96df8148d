"""Domain rules as plain functions. No request, session or current_user in here: the acting
user is always an argument, and each write use case commits once, at its end."""
