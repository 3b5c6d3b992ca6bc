"""Running Crisp's components: start in dependency order, stop in reverse."""
