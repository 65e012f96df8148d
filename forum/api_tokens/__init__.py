"""Personal API tokens on the account page: make one (shown once), list, revoke."""
