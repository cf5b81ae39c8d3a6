"""What a trader's program needs: a wallet that signs, and a client for the bridge API."""
