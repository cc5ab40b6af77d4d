from opendata import create_app

app = create_app()
