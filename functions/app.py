"""Routes of the Portail Famille function: parse, authorise, call the domain, answer.

The rules live in chalicelib; this module stays thin (DESIGN §2).
"""

from chalice import Chalice, Response

app = Chalice(app_name="portail-famille")
app.api.binary_types.append("application/pdf")


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """The error shape of the HTTP contract (DESIGN §4)."""
    return Response(
        body={"error": {"code": code, "message": message}},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@app.route("/api/me", methods=["GET"])
def me():
    # No session exists until the accounts issue adds login: nobody is logged in.
    return error_response(401, "not_authenticated", "Vous devez vous connecter pour accéder à cette page.")
