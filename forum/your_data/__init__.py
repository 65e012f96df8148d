"""Your data: downloading everything you wrote, and deleting your account."""
