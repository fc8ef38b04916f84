"""Physics-free fitting: place by category rules, push out of the body, smooth, report."""
