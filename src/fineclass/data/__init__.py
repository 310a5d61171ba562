"""Reading, cleaning, splitting and tokenizing labeled text."""
