"""The administrators' area: webhooks."""
