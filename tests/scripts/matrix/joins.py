"""merge, join, concat, pivot, pivot_table, melt, stack/unstack: printed and written."""

import pandas as pd

orders = pd.DataFrame(
    {
        "order": [1, 2, 3, 4, 5, 6],
        "customer": ["a", "b", "a", "c", "d", "b"],
        "amount": [10.0, 20.5, 7.25, 3.0, 12.0, 8.5],
        "month": ["jan", "jan", "feb", "feb", "mar", "mar"],
    }
)
customers = pd.DataFrame({"customer": ["a", "b", "c", "e"], "city": ["x", "y", "x", "z"]})

inner = orders.merge(customers, on="customer")
left = orders.merge(customers, on="customer", how="left", indicator=True)
outer = pd.merge(orders, customers, on="customer", how="outer", suffixes=("_o", "_c"))
joined = orders.set_index("customer").join(customers.set_index("customer"), how="inner")
print(inner.shape, left["_merge"].astype(str).tolist(), outer.shape, joined.shape)

stacked = pd.concat([orders.head(2), orders.tail(2)], ignore_index=True)
side = pd.concat([orders[["order"]], orders[["amount"]]], axis=1)
keyed = pd.concat({"first": orders.head(1), "last": orders.tail(1)})
print(stacked["order"].tolist(), side.shape, keyed.index.tolist())

wide = orders.pivot(index="order", columns="month", values="amount")
table = orders.pivot_table(index="customer", columns="month", values="amount", aggfunc="sum")
long = table.reset_index().melt(id_vars="customer", var_name="month", value_name="total")
print(wide.shape, table.round(2).to_dict(), long.dropna().shape)

unstacked = orders.set_index(["customer", "month"])["amount"].unstack()
restacked = unstacked.stack()
print(unstacked.shape, len(restacked))

inner.to_csv("inner.csv", index=False)
table.to_csv("table.csv")
long.to_json("long.json", orient="records")
