"""The modern fine-tuning API's behaviour suite."""
