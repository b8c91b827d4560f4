"""The modern fine-tuning API (/v1/fine_tuning/...): thin routes over domain modules."""
