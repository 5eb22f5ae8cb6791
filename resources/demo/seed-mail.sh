#!/bin/sh
# Sample mail for `mailmesh --demo`, run on the first sandbox node as the mail user, in its
# mail root: classic Maildirs (some mail still in new/), Maildir++ folders, and a few planted
# duplicates for the Duplicates view (a flag divergence, a Syncthing conflict copy, and the
# same message delivered twice).
set -eu
domain=${1:-sandbox.test}
mkdir -p "$domain" && cd "$domain"

message() { # message FILE N SUBJECT
    printf 'Message-ID: <demo-%s@%s>\r\nFrom: Demo Sender <sender@%s>\r\nSubject: %s\r\nDate: Thu, 01 Jan 2026 10:%02d:00 +0000\r\n\r\nThis is demo message %s.\r\n' \
        "$2" "$domain" "$domain" "$3" "$(( $2 % 60 ))" "$2" > "$1"
}

maildir() { # maildir PATH
    mkdir -p "$1/cur" "$1/new" "$1/tmp"
}

n=0
for user in alice bob carol dave; do
    root="$user/Maildir"
    maildir "$root"
    for folder in Sent Archive; do
        maildir "$root/.$folder"
        : > "$root/.$folder/maildirfolder"
    done
    count=$(( 20 + ${#user} * 7 ))
    i=0
    while [ $i -lt $count ]; do
        n=$(( n + 1 )); i=$(( i + 1 ))
        base="17000$(printf %05d $n).M${n}P100.demo"
        case $(( i % 10 )) in
            0) message "$root/new/$base" $n "Unread news $i for $user" ;;
            1|2) message "$root/.Sent/cur/$base:2,S" $n "Sent $i by $user" ;;
            3) message "$root/.Archive/cur/$base:2,RS" $n "Archived $i of $user" ;;
            *) message "$root/cur/$base:2,S" $n "Hello $user, message $i" ;;
        esac
    done
done

# Planted duplicates, all in alice's INBOX.
inbox=alice/Maildir/cur
message "$inbox/1700100001.M1P200.demo:2,S" 9001 "Flagged on one node, read on another"
cp "$inbox/1700100001.M1P200.demo:2,S" "$inbox/1700100001.M1P200.demo:2,FS"
message "$inbox/1700100002.M2P200.demo:2,S" 9002 "Edited concurrently"
cp "$inbox/1700100002.M2P200.demo:2,S" "$inbox/1700100002.M2P200.sync-conflict-20260101-101500-ABCDEFG.demo:2,S"
message "$inbox/1700100003.M3P200.demo:2,S" 9003 "Delivered twice"
cp "$inbox/1700100003.M3P200.demo:2,S" "$inbox/1700100004.M4P201.demo:2,S"
