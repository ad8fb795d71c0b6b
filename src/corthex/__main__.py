from corthex.cli import run

run()
