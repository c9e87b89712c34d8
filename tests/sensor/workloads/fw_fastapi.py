"""FastAPI app for the framework test (served by uvicorn)."""
from fastapi import FastAPI, HTTPException

app = FastAPI()


async def fetch_item(item_id):
    return {"id": item_id}


def compute(x):
    return x * x


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    return await fetch_item(item_id)


@app.get("/square/{x}")
def square(x: int):
    return {"v": compute(x)}


@app.get("/missing")
async def missing():
    raise HTTPException(status_code=404, detail="nope")


@app.get("/crash")
async def crash():
    raise ValueError("crash")
