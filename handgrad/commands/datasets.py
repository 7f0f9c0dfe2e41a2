"""``handgrad datasets``: which data sets are available locally, and where."""


def add_parser(sub):
    p = sub.add_parser("datasets", help="list the data sets and whether they are available locally",
                       description="List the data sets handgrad knows, where each split is found locally "
                                   "(--data-dir, HANDGRAD_DATA or the cache), or that it is missing "
                                   "(handgrad train downloads it) or generated (shapes).")
    p.add_argument("--data-dir", default=None, help="also look in this folder (first)")
    p.add_argument("--verify", action="store_true", help="check each file's md5 (slower)")
    return p


def run(args):
    from ..data import available

    rows = [(s.name, s.split, s.status, str(s.location or s.source or "")) for s in
            available(data_dir=args.data_dir, verify=args.verify)]
    head = ("dataset", "split", "status", "location")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    for row in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return 0
