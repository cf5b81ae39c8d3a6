"""The pure domain core: money, states, deadlines, hashes and signatures. No I/O here."""
