"""The app shell: a sidebar on desktop, a top bar and bottom navigation on phones.

``app_page`` registers a signed-in page inside the shell; ``auth_page`` a centred card for
sign-in and registration. Page content renders only once the server has resolved the viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from investment_app.state import AppState, SessionState

APP_NAME = "Investment App"
DESKTOP = rx.breakpoints(initial="none", md="flex")
PHONE = rx.breakpoints(initial="flex", md="none")


@dataclass(frozen=True)
class NavItem:
    """One destination in the navigation."""

    label: str
    route: str
    icon: str
    admin_only: bool = False
    section: tuple[str, ...] = ()
    """Other routes under this item (marked active there too)."""
    in_bottom_nav: bool = True
    """Phones show it in the bottom bar (at most 5 items); the others are in the top bar's account menu, and Alerts
    is the bell there."""

    def matches(self, active: str) -> bool:
        return active == self.route or active in self.section


NAV = (
    NavItem("Dashboard", "/", "layout-dashboard"),
    NavItem("Holdings", "/holdings", "layers"),
    NavItem("Transactions", "/transactions", "list"),
    NavItem("Analysis", "/performance", "chart-line", section=("/risk", "/stress", "/projection", "/optimize")),
    NavItem("Rebalance", "/rebalance", "scale", section=("/orders",), in_bottom_nav=False),
    NavItem("Alerts", "/alerts", "bell", in_bottom_nav=False),
    NavItem("Portfolios", "/portfolios", "briefcase"),
    NavItem("Settings", "/settings", "settings", section=("/settings/notifications", "/settings/brokers")),
    NavItem("Admin", "/admin", "shield-check", admin_only=True, section=("/admin/jobs",)),
)


def brand() -> rx.Component:
    return rx.hstack(
        rx.box(
            rx.icon("trending-up", size=18, color="white"),
            bg=rx.color("accent", 9),
            padding="6px",
            border_radius="8px",
            line_height="0",
        ),
        rx.text(APP_NAME, weight="bold", size="4"),
        align="center",
        spacing="2",
    )


def _nav_link(item: NavItem, active: str, label: rx.Component, **style: Any) -> rx.Component:
    """A link to ``item`` (hidden unless admin for admin-only items), marked when it is the current page."""
    link = rx.link(
        label,
        href=item.route,
        underline="none",
        aria_current="page" if item.matches(active) else None,
        color=rx.color("accent", 11) if item.matches(active) else rx.color("gray", 11),
        **style,
    )
    return rx.cond(AppState.is_admin, link) if item.admin_only else link


def alert_badge() -> rx.Component:
    """The count of open alerts, shown while there are any (kept current by pushes from investment_app.live)."""
    return rx.cond(
        AppState.open_alerts > 0,
        rx.badge(AppState.open_alerts, color_scheme="red", variant="solid", radius="full", class_name="alert-badge"),
    )


def _side_link(item: NavItem, active: str) -> rx.Component:
    label = rx.hstack(
        rx.icon(item.icon, size=18),
        rx.text(item.label, size="3"),
        *([rx.spacer(), alert_badge()] if item.route == "/alerts" else []),
        align="center",
        spacing="3",
        width="100%",
    )
    return _nav_link(
        item,
        active,
        label,
        padding="8px 12px",
        border_radius="8px",
        width="100%",
        bg=rx.color("accent", 3) if item.matches(active) else "transparent",
        _hover={"bg": rx.color("accent", 4)},
    )


def _user_card() -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=AppState.initials, size="2", radius="full"),
        rx.vstack(
            rx.text(AppState.user_name, size="2", weight="medium", trim="both"),
            rx.badge(AppState.user_role, size="1", variant="soft"),
            spacing="1",
            align="start",
            min_width="0",
        ),
        align="center",
        spacing="2",
        width="100%",
    )


def theme_toggle() -> rx.Component:
    return rx.color_mode.button(variant="ghost", size="2", aria_label="Switch light or dark theme")


def sign_out_button(**props: Any) -> rx.Component:
    return rx.button(
        rx.icon("log-out", size=16),
        "Sign out",
        variant="soft",
        color_scheme="gray",
        on_click=SessionState.sign_out,
        id="sign-out",
        **props,
    )


def sidebar(active: str) -> rx.Component:
    return rx.vstack(
        brand(),
        rx.vstack(*[_side_link(item, active) for item in NAV], spacing="1", width="100%", margin_top="1.5rem"),
        rx.spacer(),
        _user_card(),
        rx.hstack(theme_toggle(), sign_out_button(flex="1"), width="100%", align="center"),
        display=DESKTOP,
        width="240px",
        min_width="240px",
        height="100vh",
        position="sticky",
        top="0",
        padding="1.25rem 1rem",
        border_right=f"1px solid {rx.color('gray', 5)}",
        bg=rx.color("gray", 2),
    )


def top_bar(title: str) -> rx.Component:
    return rx.hstack(
        brand(),
        rx.spacer(),
        rx.link(
            rx.box(
                rx.icon("bell", size=20),
                rx.box(alert_badge(), position="absolute", top="-8px", right="-10px"),
                position="relative",
                line_height="0",
            ),
            href="/alerts",
            aria_label="Alerts",
            color=rx.color("gray", 11),
            padding="6px",
        ),
        theme_toggle(),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.avatar(fallback=AppState.initials, size="1", radius="full"),
                    variant="ghost",
                    aria_label="Account menu",
                )
            ),
            rx.menu.content(
                rx.menu.item(AppState.user_email, disabled=True),
                rx.menu.separator(),
                *[
                    rx.menu.item(rx.icon(item.icon, size=16), item.label, on_click=rx.redirect(item.route))
                    for item in NAV
                    if not item.in_bottom_nav and item.route != "/alerts"
                ],
                rx.menu.separator(),
                rx.menu.item("Sign out", on_click=SessionState.sign_out, color="red"),
            ),
        ),
        display=PHONE,
        align="center",
        width="100%",
        padding="0.75rem 1rem",
        position="sticky",
        top="0",
        z_index="10",
        bg=rx.color("gray", 2),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        aria_label=title,
    )


def _bottom_link(item: NavItem, active: str) -> rx.Component:
    label = rx.vstack(rx.icon(item.icon, size=20), rx.text(item.label, size="1"), align="center", spacing="1")
    return _nav_link(item, active, label, flex="1", padding="8px 0")


def bottom_nav(active: str) -> rx.Component:
    return rx.hstack(
        *[_bottom_link(item, active) for item in NAV if item.in_bottom_nav],
        id="bottom-nav",
        display=PHONE,
        position="fixed",
        bottom="0",
        left="0",
        right="0",
        z_index="10",
        bg=rx.color("gray", 2),
        border_top=f"1px solid {rx.color('gray', 5)}",
        spacing="0",
        padding_bottom="env(safe-area-inset-bottom)",
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="60vh", width="100%")


def shell(content: rx.Component, title: str, active: str) -> rx.Component:
    """Everything around a signed-in page; the content shows only after the viewer is known."""
    return rx.hstack(
        sidebar(active),
        rx.vstack(
            top_bar(title),
            rx.box(
                rx.heading(title, size="7", margin_bottom="1rem"),
                rx.cond(AppState.user_email != "", content, loading()),
                width="100%",
                max_width="1100px",
                padding=rx.breakpoints(initial="1rem", md="2rem"),
                padding_bottom=rx.breakpoints(initial="6rem", md="2rem"),
            ),
            width="100%",
            spacing="0",
            align="center",
            min_width="0",
        ),
        bottom_nav(active),
        spacing="0",
        width="100%",
        min_height="100vh",
        align="start",
    )


def app_page(route: str, title: str, on_load: Any) -> Callable[[Callable[[], rx.Component]], Callable]:
    """Register a signed-in page at ``route`` inside the shell; ``on_load`` must be a guarded handler."""

    def decorate(body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return shell(body(), title, route)

        page.__name__ = body.__name__
        return rx.page(route=route, title=f"{title} · {APP_NAME}", on_load=on_load)(page)

    return decorate


def titled_card(title: str, subtitle: str, *children: rx.Component, heading_size: str = "4") -> rx.Component:
    """A card with a heading, a grey one-line description and its content below."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size=heading_size),
            rx.text(subtitle, color_scheme="gray", size="2"),
            *children,
            spacing="4",
            width="100%",
        ),
        width="100%",
        size="3" if heading_size != "4" else "2",
    )


def auth_card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    """A centred card for the sign-in and registration pages."""
    return rx.center(
        rx.vstack(
            rx.hstack(brand(), rx.spacer(), theme_toggle(), width="100%", align="center"),
            titled_card(title, subtitle, *children, heading_size="6"),
            width="100%",
            max_width="420px",
            spacing="4",
        ),
        min_height="100vh",
        padding="1rem",
        bg=rx.color("gray", 2),
    )


def error_callout(message: rx.Var) -> rx.Component:
    """A red callout shown only while ``message`` is not empty."""
    return rx.cond(
        message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")
    )


def field(label: str, name: str, kind: str = "text", **props: Any) -> rx.Component:
    """A labelled form input."""
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(name=name, id=name, type=kind, size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def field_row(*fields: rx.Component) -> rx.Component:
    """Form fields side by side, each at least 9rem wide, wrapping onto new lines on a phone."""
    return rx.flex(
        *[rx.box(f, flex="1 1 9rem", min_width="9rem") for f in fields], spacing="3", wrap="wrap", width="100%"
    )


def chart_card(title: str, tabs: list[tuple[str, rx.Var]], *extra: rx.Component) -> rx.Component:
    """A card of plotly figures, one per tab; ``extra`` controls sit beside the tab list."""
    return rx.card(
        rx.tabs.root(
            rx.hstack(
                rx.heading(title, size="4"),
                rx.spacer(),
                *extra,
                rx.tabs.list(*[rx.tabs.trigger(label, value=label) for label, _ in tabs], size="1"),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            *[
                rx.tabs.content(
                    plot(figure, "340px"),
                    value=label,
                    width="100%",
                )
                for label, figure in tabs
            ],
            default_value=tabs[0][0],
            width="100%",
        ),
        width="100%",
    )


def section(title: str | rx.Var, *children: rx.Component, note: str | rx.Var = "") -> rx.Component:
    """A card with a heading, an optional small grey note under it, then ``children``, tightly spaced."""
    lead = [rx.text(note, size="1", color_scheme="gray")] if isinstance(note, rx.Var) or note else []
    return rx.card(rx.vstack(rx.heading(title, size="4"), *lead, *children, spacing="2", width="100%"), width="100%")


def plot(figure: rx.Var, height: str | None = None) -> rx.Component:
    """A plotly figure filling its container's width, without the tool bar (it covers legends on phones)."""
    size = {"height": height} if height else {}
    return rx.plotly(data=figure, use_resize_handler=True, width="100%", config={"displayModeBar": False}, **size)
