"""Email on the web side: address confirmation, notification choices, one-click unsubscribe,
password reset by email, and the links and delivery those need."""
