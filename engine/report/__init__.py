"""What an estimate returns: figures with formulas, card records, the JSON report."""
