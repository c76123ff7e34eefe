"""Declared schemas of every sheet the program reads (CONTRACT.md section 2).

One Pandera (polars backend) model per sheet kind. A model's fields are the
columns of the *normalised* frame the reader produces (snake_case names,
money in integer cents, hours in hundredths); each field's metadata names the
column's header in Finnish, Swedish and English and how a cell of it is read.
These models are the single source of header names: the reader finds columns
by them, the template writer writes headers from them, and the demo writes
its workbooks from them.

Every frame also carries `row`, the spreadsheet row number as the provider
sees it, so a failure case maps to its cell by lookup, never by arithmetic.
"""

from schemas.spec import SHEETS, ColumnSpec, SheetSpec, columns, dtypes, header_names  # noqa: F401
