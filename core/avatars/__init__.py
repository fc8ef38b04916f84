"""Avatar bodies: the anny-based builder and the committed presets."""
