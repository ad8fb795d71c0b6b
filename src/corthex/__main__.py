from corthex.cli import main

main()
