"""The behaviour suite of the modern API (/v1/fine_tuning/jobs, /v1/chat/completions)."""
