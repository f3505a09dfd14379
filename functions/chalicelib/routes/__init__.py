"""The function's routes, one Chalice blueprint per concern, registered by app.py:

    accounts.py    login, logout, page cookies' renewal, account, passwords
    bookings.py    the children's days
    documents.py   a certificate's upload, an invoice's PDF
    messages.py    the inbox
    calls.py       what every route does before and after its own work (the
                   decorators `family_call` and `public_call`, the page cookies)

A view reads the call, calls the domain (one function of chalicelib: a family's
sequence of steps is in chalicelib/family_actions.py) and answers. The staff's routes
will be one more blueprint here, with a decorator of their own beside `family_call`.
"""
