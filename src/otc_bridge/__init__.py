"""otc-bridge: peer-to-peer OTC trading of RTC with crash-safe two-leg settlement.

Importing the package has no side effects: no database, no threads, no network.
"""

__version__ = "0.1.0"
