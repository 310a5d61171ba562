from fineclass.cli import main

main()
