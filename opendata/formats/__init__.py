"""Output formats: one module per format, each turning store rows into bytes for people."""
