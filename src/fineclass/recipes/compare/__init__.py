"""`fineclass compare`: several candidate models trained or evaluated on one split, ranked on one test set."""
