"""The modern API (/v1/fine_tuning/..., /v1/chat/completions): thin routes over domain modules."""
