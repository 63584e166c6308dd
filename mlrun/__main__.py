from mlrun.cli import main

main()
