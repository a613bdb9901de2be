"""The userIdentity block of the sample records, shared by the sample scripts."""


def identity(who, account, access_key, created, mfa, invoked_by=None):
    """`who` is (type, arn, principalId): an IAM user, or an assumed role with its session."""
    kind, arn, pid = who
    ident = {"type": kind, "principalId": pid, "arn": arn, "accountId": account, "accessKeyId": access_key}
    if kind == "IAMUser":
        ident["userName"] = arn.rsplit("/", 1)[1]
    else:
        role = arn.split("/")[1]
        ident["sessionContext"] = {"sessionIssuer": {"type": "Role", "principalId": pid.split(":")[0],
                                                     "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account,
                                                     "userName": role},
                                   "attributes": {"creationDate": created, "mfaAuthenticated": mfa}}
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident
