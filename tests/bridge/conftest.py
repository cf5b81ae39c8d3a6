from tests.support.fixtures import bridge, devchain, devnet, node

__all__ = ["bridge", "devchain", "devnet", "node"]
