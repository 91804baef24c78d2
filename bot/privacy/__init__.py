"""Personal data (PIPL): masking it where it is not needed, a user's export and erasure, retention."""
