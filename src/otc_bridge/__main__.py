from otc_bridge.cli import main

main()
