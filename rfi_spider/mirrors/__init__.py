"""Full-text feed mirrors: reading feeds, the entry view, sanitising mirror HTML."""
