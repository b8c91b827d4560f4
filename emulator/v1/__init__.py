"""The modern API (/v1/fine_tuning/jobs, /v1/chat/completions): thin routes over domain modules."""
