from perilune.cli.main import main

main()
