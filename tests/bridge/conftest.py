from tests.support.fixtures import bridge, devnet, node

__all__ = ["bridge", "devnet", "node"]
