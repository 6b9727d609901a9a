"""The report: the warehouse's answer as one HTML page a person opens from disk.

`data` reads the documented views with plain SQL, `charts` draws them as inline SVG (Vega-Lite
through altair and vl-convert), and `page` renders the templates and writes the file, readable by
its owner only. The page fetches nothing: no script, style, font or image comes from elsewhere.
"""
