"""`fineclass serve`: a FastAPI app around the Predictor, with dynamic micro-batching."""
