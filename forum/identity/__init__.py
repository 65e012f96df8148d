"""Your profile: display name, bio and avatar; and the avatars everyone sees."""
