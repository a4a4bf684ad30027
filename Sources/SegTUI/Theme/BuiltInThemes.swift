/// The shipped themes, compiled in so `--theme light` works from any build or install
/// location. `themes/*.toml` stay the editable source: `scripts/embed_themes.py` writes this file
/// from them, and a test checks the two agree.
extension Theme {
    static let builtInSources: [String: String] = [
        "dark": #"""
# segterm theme: for dark terminal backgrounds (the default).
name = "dark"

[mask]
fill = "#00c8ff"            # translucent colour over mask pixels
boundary = "#ffe600"        # the mask's outline
fill_opacity = 0.45         # 0 = invisible, 1 = opaque
boundary_opacity = 0.9

[status]
foreground = "#e6e6e6"
background = "#28283c"

[panel]
foreground = "#c8c8d2"      # the image list, headers, metrics and failure text
highlight = "#3c3c5a"       # the selected row's background

"""#,
        "light": #"""
# segterm theme: for light terminal backgrounds.
name = "light"

[mask]
fill = "#e0208a"
boundary = "#1f3fff"
fill_opacity = 0.4
boundary_opacity = 0.9

[status]
foreground = "#1e1e1e"
background = "#d7dce6"

[panel]
foreground = "#28283a"      # dark text on a light background
highlight = "#c4d0ee"

"""#,
        "high-contrast": #"""
# segterm theme: maximum contrast, for bright rooms, projectors and colour-vision deficiencies
# (the mask is pure yellow on black outlines, which survives deuteranopia and protanopia).
name = "high-contrast"

[mask]
fill = "#ffff00"
boundary = "#000000"
fill_opacity = 0.55
boundary_opacity = 1.0

[status]
foreground = "#ffffff"
background = "#000000"

[panel]
foreground = "#ffffff"
highlight = "#0000c0"

"""#,
    ]
}
