"""The foundation every layer may import: errors, keys and settings. Imports nothing of ours."""
