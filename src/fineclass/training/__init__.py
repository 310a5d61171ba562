"""Fine-tuning with the Hugging Face Trainer."""
