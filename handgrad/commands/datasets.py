"""``handgrad datasets``: which data sets are available locally, and where."""


def add_parser(sub):
    p = sub.add_parser("datasets", help="list the data sets and whether they are available locally",
                       description="List the data sets handgrad knows, where each is found locally "
                                   "(HANDGRAD_DATA, --data-dir or the cache), or that it would be downloaded.")
    p.add_argument("--data-dir", default=None, help="also look in this folder")
    return p


def run(args):
    from .. import data
    rows = data.available(data_dir=args.data_dir)
    for row in rows:
        print(row)
    return 0
